"""Demo reports server and demo data, so the ETL works end to end on a fresh machine."""
