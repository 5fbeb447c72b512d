"""The council in steps, for a host that runs some seats itself: Claude Code runs the Claude
seats with its Agent tool while the CLIs answer in background workers. Driven by
`mm council start | submit | rank | synthesize | result | status`.

Modules, in import order: plan (seats, plan, tasks), rundir (one run directory: records,
tasks, workers, the step lock), submission (a Claude seat's reply, validated), machine (the
steps), worker (a stage's background worker), job (the council as a `mm jobs` kind).
"""
