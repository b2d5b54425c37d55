"""Domain: business rules in plain Python; imports nothing but the standard library."""
