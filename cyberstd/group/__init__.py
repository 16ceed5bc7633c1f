"""Many schools in one run (`cyberstd group scan`): the scan of one school as a pure function
(job.py), the executors that run it here or on a Dask cluster (executors.py), and the run that
hands schools out, keeps deadlines and retries, and streams outcomes to the database (run.py).
"""
