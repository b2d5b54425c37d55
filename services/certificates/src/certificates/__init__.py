"""The certificates service.

Owns certificates: issuance exactly once, numbering, e-certificate, public check.
"""
