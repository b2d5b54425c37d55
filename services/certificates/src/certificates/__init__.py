"""The certificates service: certificates: issuance exactly once, numbering, e-certificate, public check."""
