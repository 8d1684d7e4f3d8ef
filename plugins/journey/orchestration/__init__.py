"""Everything that knows Airflow: DAG step builders, the Spark submit operator, local runs and the server.

    default_args(), spark_job("ingest", JOBS / "ingest_events.py", [...])   # dag_steps.py, used by dags/
    env = airflow_environment(settings, db_url); test_dag(dag_id, ...)      # airflow_env.py: local DAG runs
    run_foreground(settings)                                                # airflow_server.py: `journey airflow`
    AirflowApi(...)                                                         # airflow_api.py: REST API client

Names load on first use, so importing the package imports no Airflow module (`journey demo` must set
AIRFLOW_HOME before Airflow reads its configuration).
"""

from journey import lazy_face

FACE = {
    "default_args": "dag_steps", "fail_on_input_error": "dag_steps", "spark_job": "dag_steps", "START_DATE": "dag_steps", "JourneySparkSubmitOperator": "submit",
    "PROJECT_ROOT": "airflow_env", "DAGS_FOLDER": "airflow_env", "airflow_environment": "airflow_env",
    "migrate_metadata_db": "airflow_env", "test_dag": "airflow_env", "AirflowServer": "airflow_server",
    "AirflowServerError": "airflow_server", "run_foreground": "airflow_server", "serve": "airflow_server",
    "AirflowApi": "airflow_api", "AirflowApiError": "airflow_api",
}
__all__ = sorted(FACE)
__getattr__ = lazy_face(__name__, FACE)
