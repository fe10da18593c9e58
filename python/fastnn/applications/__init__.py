"""fastnn.applications: the well-known convolutional networks, built from fastnn layers with
Keras's architectures and layer names. Nothing is downloaded: ``weights`` is None (random
initialization) or the path of a weights file saved by fastnn (``model.save_weights``).

Example::

    from fastnn import applications, layers, models
    base = applications.VGG16(include_top=False, input_shape=(64, 64, 3))
    base.trainable = False
    head = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling2D()(base.output))
    model = models.Model(base.input, head)
"""

from .alexnet import AlexNet, LocalResponseNormalization
from .inception_v3 import InceptionV3
from .lenet import LeNet5
from .resnet import ResNet18, ResNet50
from .vgg import VGG16, VGG19

__all__ = ["LeNet5", "AlexNet", "LocalResponseNormalization", "VGG16", "VGG19", "InceptionV3", "ResNet50",
           "ResNet18"]
