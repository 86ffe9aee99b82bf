"""The on-call web page, served by the worker's web server (``DW_WEB_PORT``, 6066).

:mod:`streams.web.views` registers the page and its JSON API on :data:`streams.app.app`;
:mod:`streams.web.alerts` reads recent alerts from the alerts topic and
:mod:`streams.web.drilldown` runs the saved ClickHouse queries behind a drill-down. The page
itself (``static/``) is plain HTML/JS/CSS with no external resources: on-call machines may have
no internet, and the alert data must not leave the network.
"""
