"""The on-call web page, served by the worker's web server (``DW_WEB_PORT``, 6066).

:mod:`distillwatch.streams.web.views` registers the page and its JSON API on :data:`distillwatch.streams.app.app`;
:mod:`distillwatch.streams.web.alerts` reads recent alerts from the alerts topic and
:mod:`distillwatch.streams.web.drilldown` runs the saved ClickHouse queries behind a drill-down. The page
itself (``static/``) is plain HTML/JS/CSS with no external resources: on-call machines may have
no internet, and the alert data must not leave the network.
"""
