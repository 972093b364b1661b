"""Model architectures and GPU specs, as plain data with their sources."""
