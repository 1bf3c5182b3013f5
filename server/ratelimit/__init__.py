"""Rate limits per credential and plan (GCRA), shared across processes through Redis when configured.

`policies` says who gets which budget, `gcra` is the arithmetic, `stores` keep the per-key state (in-process or in
Redis), `limiter` ties them together and `middleware` applies it to every HTTP request. docs/adr/0002 explains why.
"""
