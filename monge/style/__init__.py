"""STROTSS style transfer: hypercolumn features, the losses, region masks, the Laplacian pyramid
and the optimiser (strotss.stylize)."""
