"""Container images: Rubin Science Platform tags, and maintenance rebuilds of historical locks."""
