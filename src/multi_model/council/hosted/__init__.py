"""The council in steps, for a host that runs some seats itself: Claude Code runs the Claude
seats with its Agent tool while the CLIs answer in background workers. Driven by
`mm council start | next | submit | rank | synthesize | result | status`.

Modules, in import order: plan (seats, plan, tasks), rundir (one run directory: records, tasks,
workers, the step lock), replies (is a reply a reply), submission (a Claude seat's reply,
validated), stage (open and collect one stage), machine (the steps), host (`next`: what the
host does now), worker (a stage's background worker), job (the council as a `mm jobs` kind).
For the plugin's hooks, stdlib only: capture (the seats' replies from Claude Code's hook
payloads) and allow (the council step and a seat's task Read, pre-approved).
"""
