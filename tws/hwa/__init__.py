"""The HWA scheduler client: contract, v2 adapter, legacy v1 client, unified client and their plumbing."""
