"""Image data: reading images (images), collections as Datasets (sources), domain specs and splits
(domains), the built-in emoji (emoji), and training batch samplers (sampling)."""
