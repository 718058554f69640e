"""The wire layer: RESP request parsing and reply encoding. Knows nothing of data types."""
