"""The applications service.

Owns applications, the personal profile, catalog, regions, units, committees and their review
activities, messages, talent statistics, out-of-province records.
"""
