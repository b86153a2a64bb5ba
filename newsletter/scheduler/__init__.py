"""The scheduler (``newsletter run``): when the day's actions happen (:mod:`.timing`), what
they do (:mod:`.day`), who is told when something goes wrong (:mod:`.alerts`), and the
APScheduler 3 process around them (:mod:`.runner`)."""
