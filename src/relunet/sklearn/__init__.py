"""scikit-learn estimators over relunet's engine: ReLUNetClassifier and ReLUNetRegressor.

They take every parameter of scikit-learn's MLPClassifier and MLPRegressor with the same meaning, defaults
and validation, so code written for ``sklearn.neural_network`` runs with relunet by changing the import:

    >>> from relunet.sklearn import ReLUNetClassifier
    >>> clf = ReLUNetClassifier(hidden_layer_sizes=(64, 64), random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test)

The training objective is scikit-learn's: for a batch B with sample weights w (all 1 by default),

    L_B = sum_{n in B} w_n l(z_n, y_n) / sum_B w  +  alpha/2 ||W||^2 / sum_B w

with l the softmax cross-entropy (several classes), the binary cross-entropy of one logistic output per
label (two classes, multi-label), 1/2 sum_k (z_k - y_k)^2 (squared error; the reported loss is this / K
as scikit-learn's) or the Poisson deviance. The solvers 'sgd' and 'adam' run relunet's one Trainer; 'lbfgs'
is SciPy's L-BFGS-B over relunet's loss_and_gradients. Where relunet goes further (leaky ReLU, a two-way
softmax for binary problems, class_weight, callbacks, target_loss, a validation loss curve) see the table
in docs/ecosystem.md.

After fitting, ``model_`` is the relunet MLP itself (use it with relunet.pwl, the plots, relunet.save);
``coefs_``/``intercepts_`` are views of its weights in scikit-learn's (fan_in, fan_out) layout, and can be
assigned (``clf.coefs_[0] = W``, or the whole list) to continue training from given weights.
"""

from ._estimators import ReLUNetClassifier, ReLUNetRegressor

__all__ = ["ReLUNetClassifier", "ReLUNetRegressor"]
