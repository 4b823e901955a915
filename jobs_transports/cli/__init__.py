"""`jobs`: the sync client on the command line, with table or JSON output.

    jobs list Logic --active --limit 5
    jobs get Predictive JOB_ID --include details,events --json
    jobs events Predictive JOB_ID --follow
    jobs wait Prescriptive JOB_ID --timeout 600
    jobs cancel Logic TXN_ID --all-users
    jobs create Predictive forecaster @payload.json --wait
    jobs config

`jobs --help` lists the options, the environment variables read and the exit statuses. The
package is imported only by the `jobs` script: `import jobs_transports` does not load it.
"""

from ._main import main as main

__all__ = ["main"]
