"""The ids of the project's DAGs, for code that names them without importing Airflow or the DAG files."""

DAILY_DAG = "journey_daily_profiles"
TRAIN_DAG = "journey_train_models"
CAMPAIGN_DAG = "journey_campaign"
RESULTS_DAG = "journey_campaign_results"
DAG_IDS = (DAILY_DAG, TRAIN_DAG, CAMPAIGN_DAG, RESULTS_DAG)
