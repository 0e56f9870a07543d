"""What every area of vrmvault shares and none of them owns: the root of the exception tree.

Nothing here imports an area (``vault``, ``consent``, ``brand_gateway``, ``web``) or Flask, so
each area can import it without depending on another for it.
"""
