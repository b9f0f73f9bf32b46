"""The subprocess runner: runs a job's steps as child process groups and records their output."""
