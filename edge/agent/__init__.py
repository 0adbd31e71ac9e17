"""The edge agent daemon: frames from cameras and apps in, standing questions asked about them
through the edge, answers out (subscribers, a results file), through outages of fog and cloud.

    splitvlm agent --config deploy/agent.toml

    sources ─▶ ring (drop-oldest) ─▶ near-duplicate? ─▶ journal (SQLite) ─▶ edge Ask ─▶ results
                                      (reuse the key frame's image)        (degraded? confirm later)
"""
