"""fastnn.applications: parameter counts against Keras's (and the papers'), layer names,
headless models with pooling, forward passes on small inputs, weights files, errors."""

import fastnn
import numpy as np
import pytest
import torch
from fastnn import applications as A
from fastnn import layers, models
from oracle import TOL, check_op, randn


def _trainable(model) -> int:
    return sum(int(w.size) for w in model.trainable_weights)


@pytest.mark.parametrize("build, total, trainable", [
    (lambda: A.LeNet5(input_shape=(32, 32, 1)), 61_706, 61_706),
    (lambda: A.AlexNet(), 60_965_224, 60_965_224),  # the paper's 227x227 with two-group conv2/4/5
    (lambda: A.ResNet50(), 25_636_712, 25_583_592),
    (lambda: A.InceptionV3(), 23_851_784, 23_817_352),
    (lambda: A.ResNet18(), 11_699_112, 11_689_512),  # torchvision resnet18 + BN moving statistics
    pytest.param(lambda: A.VGG16(), 138_357_544, 138_357_544, marks=pytest.mark.slow),
    pytest.param(lambda: A.VGG19(), 143_667_240, 143_667_240, marks=pytest.mark.slow),
], ids=["lenet5", "alexnet", "resnet50", "inception_v3", "resnet18", "vgg16", "vgg19"])
def test_parameter_counts(build, total, trainable):
    model = build()
    assert model.count_params() == total
    assert _trainable(model) == trainable


def test_lenet5_layers_and_pooling_choice():
    m = A.LeNet5()
    assert [layer.name for layer in m.layers[1:]] == ["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2",
                                                      "predictions"]
    assert isinstance(m.get_layer("pool1"), layers.AveragePooling2D)
    assert m.get_layer("pool2").output.shape == (None, 5, 5, 16)
    mx = A.LeNet5(subsampling="max", activation="relu", input_shape=(28, 28, 1))
    assert isinstance(mx.get_layer("pool1"), layers.MaxPooling2D)
    assert mx.get_layer("pool2").output.shape == (None, 4, 4, 16)
    assert mx.count_params() == 61_706 - 400 * 120 + 256 * 120
    y = mx.predict(np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32), verbose=0)
    assert y.shape == (3, 10)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_vgg_names_and_headless_pooling():
    m = A.VGG16(include_top=False, input_shape=(32, 32, 3))
    names = [layer.name for layer in m.layers]
    assert names[1:4] == ["block1_conv1", "block1_conv2", "block1_pool"]
    assert names[-1] == "block5_pool" and "block5_conv3" in names and "block5_conv4" not in names
    assert m.output_shape == (None, 1, 1, 512)
    assert m.count_params() == 14_714_688  # Keras's VGG16 notop
    assert A.VGG16(include_top=False, input_shape=(32, 32, 3), pooling="avg").output_shape == (None, 512)
    m19 = A.VGG19(include_top=False, input_shape=(48, 48, 3), pooling="max")
    assert m19.output_shape == (None, 512)
    assert m19.get_layer("block3_conv4").filters == 256
    assert m19.count_params() == 20_024_384  # Keras's VGG19 notop
    assert isinstance(m19.layers[-1], layers.GlobalMaxPooling2D)


def test_vgg16_top_on_small_images_and_classes():
    m = A.VGG16(input_shape=(32, 32, 3), classes=7, classifier_activation=None)
    assert m.get_layer("fc1").kernel.shape == (512, 4096)
    assert m.get_layer("predictions").kernel.shape == (4096, 7)
    assert m.get_layer("predictions").activation is fastnn.activations.get(None)


def test_resnet50_structure():
    m = A.ResNet50(include_top=False, input_shape=(64, 64, 3), pooling="avg")
    names = {layer.name for layer in m.layers}
    for n in ["conv1_pad", "conv1_conv", "conv1_bn", "pool1_pool", "conv2_block1_0_conv", "conv2_block3_add",
              "conv3_block4_out", "conv4_block6_3_bn", "conv5_block3_out", "avg_pool"]:
        assert n in names, n
    assert "conv2_block2_0_conv" not in names  # identity shortcut after the first block
    assert sum(isinstance(layer, layers.Add) for layer in m.layers) == 16
    assert m.count_params() == 23_587_712  # Keras's ResNet50 notop
    assert m.get_layer("conv1_bn").epsilon == pytest.approx(1.001e-5)
    assert m.get_layer("conv5_block3_out").output.shape == (None, 2, 2, 2048)
    assert m.output_shape == (None, 2048)
    assert A.ResNet50(include_top=False, input_shape=(32, 32, 3), pooling="max").layers[-1].name == "max_pool"


def test_inception_v3_structure():
    m = A.InceptionV3(include_top=False, input_shape=(75, 75, 3))
    names = {layer.name for layer in m.layers}
    assert {f"mixed{i}" for i in range(11)} | {"mixed9_0", "mixed9_1"} <= names
    concats = [layer for layer in m.layers if isinstance(layer, layers.Concatenate)]
    assert len(concats) == 15  # 11 modules + two 2-way splits in each of mixed9 and mixed10
    bns = [layer for layer in m.layers if isinstance(layer, layers.BatchNormalization)]
    assert len(bns) == 94 and all(not bn.scale and bn.center for bn in bns)
    convs = [layer for layer in m.layers if isinstance(layer, layers.Conv2D)]
    assert len(convs) == 94 and all(not c.use_bias for c in convs)
    assert m.get_layer("mixed2").output.shape[-1] == 288
    assert m.get_layer("mixed7").output.shape[-1] == 768
    assert m.output_shape == (None, 1, 1, 2048)
    assert m.count_params() == 21_802_784  # Keras's InceptionV3 notop


def test_resnet18_small_trains_and_names():
    m = A.ResNet18(input_shape=(16, 16, 1), classes=4, width=8, blocks=(1, 1, 1), small_inputs=True)
    assert sum(isinstance(layer, layers.Add) for layer in m.layers) == 3
    assert m.get_layer("conv3_block1_0_conv").strides == (2, 2)
    assert m.get_layer("conv4_block1_2_conv").filters == 32
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 16, 16, 1), dtype=np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64) + 2 * (x[:, :8].mean(axis=(1, 2, 3)) > 0)
    m.compile(optimizer=fastnn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    h = m.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    full = A.ResNet18(include_top=False, pooling="avg")
    assert sum(isinstance(layer, layers.Add) for layer in full.layers) == 8
    assert full.output_shape == (None, 512)


def test_alexnet_variants_forward():
    paper = A.AlexNet(include_top=False)
    assert paper.get_layer("conv2").groups == 2 and paper.get_layer("conv3").groups == 1
    assert isinstance(paper.get_layer("norm1"), A.LocalResponseNormalization)
    assert paper.output_shape == (None, 6, 6, 256)
    small = A.AlexNet(input_shape=(32, 32, 3), classes=10, small_inputs=True)
    assert small.get_layer("pool5").output.shape == (None, 3, 3, 256)
    y = small.predict(np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32), verbose=0)
    assert y.shape == (2, 10) and np.all(np.isfinite(y))
    plain = A.AlexNet(input_shape=(32, 32, 3), small_inputs=True, local_response_normalization=False)
    assert not any(isinstance(layer, A.LocalResponseNormalization) for layer in plain.layers)


@pytest.mark.parametrize("shape, radius", [((2, 3, 4, 7), 2), ((1, 5, 5, 16), 2), ((2, 2, 3, 3), 1),
                                           ((1, 2, 2, 1), 0)])
def test_local_response_normalization_against_torch(shape, radius):
    lrn = A.LocalResponseNormalization(depth_radius=radius, bias=2.0, alpha=1e-2, beta=0.75)
    n = 2 * radius + 1
    # torch divides alpha by the window size n; TF's (and the paper's) formula does not.
    ref = torch.nn.LocalResponseNorm(n, alpha=1e-2 * n, beta=0.75, k=2.0)
    check_op(lambda x: lrn(x), lambda x: ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), [randn(*shape)],
             name="local_response_norm", tol=TOL["transcendental"])


def test_local_response_normalization_config_and_save(tmp_path):
    inp = layers.Input((4, 4, 6))
    m = models.Model(inp, A.LocalResponseNormalization(depth_radius=1, alpha=0.5, name="lrn")(inp))
    x = randn(2, 4, 4, 6)
    m.save(tmp_path / "lrn.keras")
    back = models.load_model(tmp_path / "lrn.keras")
    assert back.get_layer("lrn").get_config()["alpha"] == 0.5
    np.testing.assert_array_equal(back.predict(x, verbose=0), m.predict(x, verbose=0))
    with pytest.raises(ValueError, match="depth_radius"):
        A.LocalResponseNormalization(depth_radius=-1)


def test_weights_file_round_trip(tmp_path):
    a = A.LeNet5(input_shape=(28, 28, 1), activation="relu")
    path = tmp_path / "lenet5.weights.safetensors"
    a.save_weights(path)
    b = A.LeNet5(input_shape=(28, 28, 1), activation="relu", weights=str(path))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("fn", [A.LeNet5, A.AlexNet, A.VGG16, A.VGG19, A.InceptionV3, A.ResNet50, A.ResNet18])
def test_errors(fn, tmp_path):
    with pytest.raises(ValueError, match="downloads nothing"):
        fn(weights="imagenet")
    with pytest.raises(ValueError, match="does not exist"):
        fn(weights=str(tmp_path / "missing.weights"))
    with pytest.raises(TypeError, match="weights"):
        fn(weights=3)
    with pytest.raises(ValueError, match="pooling.*'mean'"):
        fn(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match=r"at least .*\(8, 8, 3\)"):
        fn(include_top=False, input_shape=(8, 8, 3))
    with pytest.raises(ValueError, match=r"input_shape must be \(rows, cols, channels\)"):
        fn(input_shape=(32, 32))


def test_resnet18_bad_arguments():
    with pytest.raises(ValueError, match="width=0"):
        A.ResNet18(width=0)
    with pytest.raises(ValueError, match=r"blocks=\(2, 0\)"):
        A.ResNet18(blocks=(2, 0))
    with pytest.raises(ValueError, match="subsampling='median'"):
        A.LeNet5(subsampling="median")


def test_transfer_from_a_headless_base():
    base = A.ResNet18(include_top=False, input_shape=(16, 16, 3), width=4, blocks=(1, 1), small_inputs=True)
    base.trainable = False
    out = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling2D()(base.output))
    model = models.Model(base.input, out)
    assert _trainable(model) == 8 * 3 + 3  # the head only


def test_input_tensor():
    inp = layers.Input((32, 32, 1))
    m = A.LeNet5(input_tensor=inp)
    assert m.input is inp and m.count_params() == 61_706
    with pytest.raises(ValueError, match="input_tensor must come from fastnn.layers.Input"):
        A.LeNet5(input_tensor=layers.Rescaling(1 / 255)(inp))
