"""`jobs-client` (also installed as `jobs`): the sync client on the command line, with table or
JSON output. Shells run a `jobs` builtin of their own in place of the `jobs` script.

    jobs-client list Logic --active --limit 5
    jobs-client get Predictive JOB_ID --include details,events --json
    jobs-client events Predictive JOB_ID --follow
    jobs-client wait Prescriptive JOB_ID --timeout 600
    jobs-client cancel Logic TXN_ID --all-users
    jobs-client create Predictive forecaster @payload.json --wait
    jobs-client config

`jobs-client --help` lists the options, the environment variables read and the exit statuses. The
package is imported only by the scripts: `import jobs_transports` does not load it.
"""

from ._main import main as main

__all__ = ["main"]
