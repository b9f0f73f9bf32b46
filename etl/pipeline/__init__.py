"""The bundled ETL pipeline: download reports, validate and load positions, speak the line protocol."""
