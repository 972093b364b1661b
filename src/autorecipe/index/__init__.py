"""The recipe index: every recipe a Megatron-Bridge release ships, extracted statically."""
