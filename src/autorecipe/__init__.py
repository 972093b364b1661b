"""autorecipe: pick, resize, size and lint Megatron-Bridge training recipes."""

__version__ = "0.1.0"
