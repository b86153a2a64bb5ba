"""The edition's use cases, each once for every cadence and every surface (command line,
web pages, scheduler):

- ``compose``: :class:`Composer`, a draft from the window's articles (daily or weekly);
- ``drafts``: :class:`Drafts`, reading editions, the editors' decisions, hold, approve,
  pause; ``decisions``: an editor's actions on a draft (pin, exclude, move, texts, proof);
- ``approval``: the one rule of the editors' gate (hold, required approval);
- ``rendering``: :class:`Renderer`, render once per variant, preview, the per-reader sender;
- ``release``: :class:`Release`, release then deliver (the day's send, the weekly edition,
  a time-zone wave), one result type; ``delivery``: :class:`Delivery`, draining an outbox
  and the workers' loop;
- ``texts``: the rule for editors' subjects and preheaders; ``document``: the
  ``compose --json`` document.
"""
