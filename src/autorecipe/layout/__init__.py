"""Parallel layouts: Megatron-Core's validity rules and the search over them."""
