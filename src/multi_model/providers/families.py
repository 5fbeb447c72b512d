"""Model families that more than one provider serves. A provider lists the ones it answers
in its `routes`; a family only one provider serves may live in that provider's own module."""

from __future__ import annotations

from multi_model.providers.base import Family

OPENAI = Family(r"(openai/)?(gpt|o\d|codex|chatgpt)([-.].*)?")
GEMINI = Family(r"(google/)?gemini([-.].*)?")
QWEN = Family(r"qwen.*")
MISTRAL = Family(r"(mistral|devstral|codestral|magistral).*")
ANY = Family(r".*")
"""Every other model id: routed last, whatever the registry order."""
