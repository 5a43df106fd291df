"""A static HTML site for browsing a certificate store, offline.

``build_site(store, outdir)`` writes::

    index.html              every certificate in one table: search box, filters
    cert/<id>.html          one page per certificate (ids contain '/': nested dirs)
    cert/<id>.json          the certificate itself, next to its page
    model/<name>.html       one page per model: its documentation, parameters, plots
    plots/<name>/…          frontier plots from ``prover.frontier.pictures`` (optional)

The pages open from the file system (file:// URLs): every link is relative, CSS and the
index's small script are inline, and nothing is fetched from the network. Certificates
are data, not markup: every piece of their text is HTML-escaped, no certificate text
ever reaches a script, and each page carries a Content-Security-Policy that lets only
the index's own script run.

The index honours ``index.html#verdict=refuted&model=twins&trust=certificate&q=text``
(or the same as a ``?query``), so a filtered view can be linked or bookmarked.

A store entry that cannot be read is listed on the index with its reason; a certificate
whose fields have unexpected shapes still gets a page (its raw JSON, escaped); a
missing or failing plotting module only removes the plots. The build never fails
because of one certificate.

One module per job: ``build`` (the directory, the store's entries, every page written),
``pages`` (a certificate's page, a model's page), ``index`` (the index page), ``plots``
(the plots cache), ``assets`` (the page frame: CSS, the index's script, the
Content-Security-Policy), ``markup`` (escaping and small HTML pieces), ``report``
(``SiteReport``, what a build wrote).
"""

from __future__ import annotations

from .build import build_site
from .report import SiteReport

__all__ = ["SiteReport", "build_site"]
