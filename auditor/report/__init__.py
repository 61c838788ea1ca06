"""Output formats, all rendered from one `Report`."""
