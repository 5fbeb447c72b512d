"""The council: parallel answers, blind peer-ranked review with strict JSON ballots, and a
chairman's synthesis. (Work in progress: see the modules in this package.)"""
