"""The SQLCipher implementation of intent casting's repository (``intents/repositories.py``)."""
