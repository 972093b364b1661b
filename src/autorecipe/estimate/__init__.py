"""Memory and throughput estimates for one layout."""
