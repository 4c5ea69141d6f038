"""`gkeras.visualization` against Keras 3.15.1's recorded outputs
(tests/data/keras_segmentation_masks.json) and hand-computed boxes."""

import json
import os
import sys

import numpy as np
import pytest

import gkeras
from gkeras import visualization as vis
from gkeras.visualization._utils import boxes_to_xyxy

DATA = os.path.join(os.path.dirname(__file__), "data")
sys.path.insert(0, DATA)
import record_keras_segmentation_masks as seg_cases  # noqa: E402

with open(os.path.join(DATA, "keras_segmentation_masks.json")) as _f:
    KERAS_SEG = json.load(_f)


@pytest.mark.parametrize("case", sorted(seg_cases.CASES))
def test_draw_segmentation_masks_matches_keras(case):
    images, masks = seg_cases.inputs()
    got = vis.draw_segmentation_masks(images, masks,
                                      **seg_cases.CASES[case])
    want = KERAS_SEG[case]
    assert str(got.dtype) == want["dtype"]
    np.testing.assert_array_equal(got, np.array(want["values"], got.dtype))


def test_draw_segmentation_masks_channels_first_and_errors():
    images, masks = seg_cases.inputs()
    cf = vis.draw_segmentation_masks(np.transpose(images, (0, 3, 1, 2)),
                                     np.transpose(masks, (0, 3, 1, 2)),
                                     data_format="channels_first")
    np.testing.assert_array_equal(
        cf, np.array(KERAS_SEG["default"]["values"], "uint8"))
    with pytest.raises(TypeError, match="integer dtype"):
        vis.draw_segmentation_masks(images, masks.astype("float32"))
    with pytest.raises(ValueError, match="batched 4D"):
        vis.draw_segmentation_masks(images[0], masks[0])


def test_box_formats_to_xyxy():
    # One box, x in [10, 30], y in [20, 60], on a 100 x 200 (h x w) image.
    want = [10, 20, 30, 60]
    for fmt, box in [("xyxy", [10, 20, 30, 60]), ("yxyx", [20, 10, 60, 30]),
                     ("xywh", [10, 20, 20, 40]),
                     ("center_xywh", [20, 40, 20, 40]),
                     ("center_yxhw", [40, 20, 40, 20]),
                     ("rel_xyxy", [0.05, 0.2, 0.15, 0.6]),
                     ("rel_yxyx", [0.2, 0.05, 0.6, 0.15])]:
        np.testing.assert_allclose(boxes_to_xyxy([box], fmt, 100, 200)[0],
                                   want, rtol=1e-6, err_msg=fmt)
    with pytest.raises(ValueError, match="bounding_box_format"):
        boxes_to_xyxy([want], "xyzz", 1, 1)


def test_draw_bounding_boxes_needs_opencv_like_keras():
    images = np.zeros((1, 8, 8, 3), "uint8")
    boxes = {"boxes": [[[1, 1, 5, 5]]], "labels": [[0]]}
    try:
        import cv2  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="opencv"):
            vis.draw_bounding_boxes(images, boxes, "xyxy")
        return
    out = vis.draw_bounding_boxes(images, boxes, "xyxy",
                                  color=(255, 0, 0), line_thickness=1)
    assert out.shape == images.shape and out.dtype == np.uint8
    # The box outline is red, the inside and outside untouched.
    assert (out[0, 1, 1:6, 0] == 255).all() and (out[0, 3, 3] == 0).all()
    assert (out[0, 7, 7] == 0).all()


def test_plot_image_gallery_saves_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    images, masks = seg_cases.inputs()
    path = str(tmp_path / "gallery.png")
    vis.plot_image_gallery(images, y_true=np.array([0, 1]),
                           label_map={0: "cat", 1: "dog"}, path=path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    path2 = str(tmp_path / "masks.png")
    vis.plot_segmentation_mask_gallery(images, num_classes=4, y_true=masks,
                                       y_pred=masks, path=path2)
    assert os.path.getsize(path2) > 100
    with pytest.raises(ValueError, match="label_map"):
        vis.plot_image_gallery(images, y_true=[0, 1], path=path)
    with pytest.raises(ValueError, match="either `path`"):
        vis.plot_image_gallery(images, path=path, show=True)


def test_reachable_from_top_level():
    assert gkeras.visualization.plot_image_gallery is vis.plot_image_gallery
