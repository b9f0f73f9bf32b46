"""The subprocess runner: process mechanics only (spawn the steps' process groups, pump their output).

Every state change it causes goes through ``etl.services``.
"""
