"""adaptor_baseline: AdaptOR data layer, synthetic data, and the paper's reference baseline."""
