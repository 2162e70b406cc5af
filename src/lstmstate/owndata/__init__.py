"""The user's own data: read, split, scaled, framed, trained in one framing, and every framing compared."""
