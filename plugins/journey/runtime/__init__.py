"""Process plumbing: the SparkSession, Java discovery, the package zip for executors, CLI start-up.

    spark = get_spark("journey-job", settings)      # spark.py (Java checked first: javacheck.py)
    sys.exit(run_main(main))                        # runner.py: logging, one-line errors, exit codes
    package_zip(settings)                           # packaging.py: `--py-files` for a cluster

Names load on first use, so `python -m journey.runtime.javacheck` runs on a bare Python.
"""

from journey import lazy_face

FACE = {
    "JavaNotFoundError": "javacheck", "ensure_java_home": "javacheck", "find_java": "javacheck",
    "package_zip": "packaging", "ships_package": "packaging",
    "iso_date": "runner", "run_main": "runner", "setup_logging": "runner",
    "fixed_shuffle_partitions": "spark", "get_spark": "spark", "session_conf": "spark", "shared_exchanges": "spark",
}
__all__ = sorted(FACE)
__getattr__ = lazy_face(__name__, FACE)
