"""The web app (``monge ui``, the ``[ui]`` extra): the page in :mod:`.app`, its work in :mod:`.style_job`
and :mod:`.translate_job` (importable without Gradio)."""
