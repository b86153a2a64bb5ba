"""newsletter: a self-hosted daily five-minute email briefing.

The packages are layers, each importing only from those below it (README "How it works";
``make check`` runs import-linter's contract)::

    cli > scheduler > web > wiring > editions | feedback > audience > deliver
        > render | compose | ingest > providers | store > config | words > leaves
"""

__version__ = "0.1.0"
