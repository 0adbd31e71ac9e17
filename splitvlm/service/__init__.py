"""The gRPC layer shared by all three tiers: proto conversion, servicers, server lifecycle.

Handlers convert proto <-> Python objects and delegate to splitvlm.executor; nothing else.
"""
