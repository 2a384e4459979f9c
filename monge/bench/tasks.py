"""The translation suite's tasks: pairs of built-in domains whose file names pair the same item in
both (torch-free, so that ``monge --help`` lists them without importing torch)."""

TASKS: dict[str, tuple[str, str]] = {
    "twitter-google": ("emoji:twitter", "emoji:google"),
    "google-twitter": ("emoji:google", "emoji:twitter"),
    "sans-serif": ("fonts:DejaVuSans", "fonts:DejaVuSerif"),
    "serif-sans": ("fonts:DejaVuSerif", "fonts:DejaVuSans"),
    "sans-bold": ("fonts:DejaVuSans", "fonts:DejaVuSans-Bold"),
    "sans-mono": ("fonts:DejaVuSans", "fonts:DejaVuSansMono"),
}
