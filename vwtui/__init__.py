"""vwtui: backup and recovery console for the Video Window PostgreSQL database on AWS RDS."""

__version__ = "0.1.0"
