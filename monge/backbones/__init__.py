"""Frozen pretrained backbones behind one registry: EfficientNet-Lite0 (offline), FID's Inception-v3,
VGG16, and the perceptual distance built on EfficientNet-Lite0."""
