"""The identity-bridge service.

Owns the bridge to the provincial identity platform (OIDC or ticket style); mints the tokens every
other service verifies and publishes their keys.
"""
