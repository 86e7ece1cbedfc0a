"""Publication (公示), case-file evaluation (案卷评查), annual statistics report (年报) and the supervision feed."""
