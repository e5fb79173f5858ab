"""mbpm: the analysis package behind the reproducible book of Aygün et al. (Life, 2024).

The package reads a study data folder (the data contract, shown in the book's data chapter), scores the
questionnaires, quantifies the salivary assays and runs the statistical plan. It knows nothing
about Jupyter Book: the chapters import it and call one function per step.
"""

__version__ = "0.1.0"
