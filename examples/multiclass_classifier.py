"""A multi-class softmax classifier with one-hot labels (the course notes' second example).

scikit-learn's bundled wine data (13 features, 3 cultivars), standardised; labels one-hot
encoded with fastnn.utils.to_categorical; Dense(16, relu), Dense(3, softmax); categorical
cross-entropy with Adam; evaluate, then the confusion matrix.

    python examples/multiclass_classifier.py [--epochs 100]
"""

import argparse

import numpy as np
from fastnn import layers, metrics, models, utils
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split


def main(epochs: int = 100, verbose: int = 2) -> float:
    utils.set_random_seed(0)
    data = load_wine()
    x = data.data.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.3, random_state=0,
                                                        stratify=data.target)
    mean, std = x_train.mean(0), x_train.std(0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    y_train_1h, y_test_1h = utils.to_categorical(y_train, 3), utils.to_categorical(y_test, 3)

    model = models.Sequential([layers.Input((13,)), layers.Dense(16, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train_1h, epochs=epochs, batch_size=16, validation_split=0.1, verbose=verbose)
    result = model.evaluate(x_test, y_test_1h, return_dict=True, verbose=0)
    pred = np.argmax(model.predict(x_test, verbose=0), axis=1)
    print(f"test loss {result['loss']:.4f}, test accuracy {result['accuracy']:.4f}")
    print("confusion matrix:\n", metrics.confusion_matrix(y_test, pred))
    return result["accuracy"]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=100)
    main(p.parse_args().epochs)
