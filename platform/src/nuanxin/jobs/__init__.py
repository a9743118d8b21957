"""Work done outside the request that asked for it: matching rounds and periodic duties.

* :mod:`nuanxin.jobs.queue`: :func:`~nuanxin.jobs.queue.defer` records a job in the caller's
  own transaction (a rollback leaves no job; a commit makes it visible to workers).
* :mod:`nuanxin.jobs.tasks`: the tasks, plain async functions calling the services.
* :mod:`nuanxin.jobs.worker`: who runs them. On PostgreSQL, Procrastinate workers
  (``python -m nuanxin worker``, any number, on any machine); on SQLite (the demo), a small
  loop inside the app's process over the ``embedded_job`` table.
"""
