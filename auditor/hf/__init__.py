"""Pretrained Hugging Face models from local directories: loading, fine-tuning modes, DP preflight."""
